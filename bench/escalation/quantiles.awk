# Summarises the stringer_escalation_lag_seconds histogram between two /metrics scrapes.
#
#   awk -v before=BEFORE -f bench/escalation/quantiles.awk AFTER     (before= is optional)
#
# prints one line:
#   count=N sum=S mean=M p50=X p99=Y over1s=F max_le=B
# where the counts are AFTER minus BEFORE (the timers whose lag was recorded in between),
# p50/p99 are estimated like Prometheus' histogram_quantile(): find the bucket holding the
# rank q*count and interpolate linearly between its lower and upper bounds (0 below the first
# bucket), so they are only as fine as the buckets (0.01 0.05 0.1 0.25 0.5 1 2 5 10 30 60 s);
# a quantile in the +Inf bucket prints as ">60". over1s is the exact fraction above 1 s (1 is
# a bucket bound). max_le is the upper bound of the highest non-empty bucket.

function metric_value(line) {
    sub(/^.*[} ]/, "", line)
    return line + 0
}

function le_of(line) {
    sub(/^.*le="/, "", line)
    sub(/".*$/, "", line)
    return line
}

function take(line, sign,    le) {
    if (line ~ /^stringer_escalation_lag_seconds_bucket\{/) {
        le = le_of(line)
        delta[le] += sign * metric_value(line)
        seen[le] = 1
    } else if (line ~ /^stringer_escalation_lag_seconds_sum /) {
        sum += sign * metric_value(line)
    } else if (line ~ /^stringer_escalation_lag_seconds_count /) {
        count += sign * metric_value(line)
    }
}

BEGIN {
    if (before != "") {
        while ((getline line < before) > 0) take(line, -1)
        close(before)
    }
}

{ take($0, 1) }

function quantile(q,    rank, i, lo, lo_c, le, c) {
    if (count <= 0) return "-"
    rank = q * count
    lo = 0
    lo_c = 0
    for (i = 1; i <= n; i++) {
        le = bounds[i]
        c = delta[le]
        if (c >= rank) {
            if (le == "+Inf") return ">" lo
            if (c == lo_c) return sprintf("%.3f", le)
            return sprintf("%.3f", lo + (le - lo) * (rank - lo_c) / (c - lo_c))
        }
        lo = le
        lo_c = c
    }
    return "-"
}

END {
    # The finite bounds in numeric order, then +Inf.
    n = 0
    for (le in seen) if (le != "+Inf") bounds[++n] = le
    for (i = 2; i <= n; i++) {
        v = bounds[i]
        for (j = i - 1; j >= 1 && bounds[j] + 0 > v + 0; j--) bounds[j + 1] = bounds[j]
        bounds[j + 1] = v
    }
    if ("+Inf" in seen) bounds[++n] = "+Inf"

    over1 = "-"
    if (count > 0 && ("1" in seen)) over1 = sprintf("%.4f", (count - delta["1"]) / count)
    max_le = "-"
    prev = 0
    for (i = 1; i <= n; i++) {
        if (delta[bounds[i]] > prev) max_le = bounds[i]
        prev = delta[bounds[i]]
    }
    mean = count > 0 ? sprintf("%.3f", sum / count) : "-"
    printf "count=%d sum=%.3f mean=%s p50=%s p99=%s over1s=%s max_le=%s\n",
        count, sum, mean, quantile(0.50), quantile(0.99), over1, max_le
}
