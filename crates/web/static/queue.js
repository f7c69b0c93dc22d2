// The console queue refreshes its rows every few seconds: keep the reader where they were.
// htmx gives the keyboard focus back to the element of the same id; this keeps the scroll.
(function () {
  var kept = null;
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.target.id === "queue-rows") kept = window.scrollY;
  });
  document.addEventListener("htmx:afterSettle", function (e) {
    if (e.detail.target.id === "queue-rows" && kept !== null) window.scrollTo(window.scrollX, kept);
  });
})();
