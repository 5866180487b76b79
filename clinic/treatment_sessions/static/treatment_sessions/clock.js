/* KetaCare live clock for the chair side. No dependencies; runs every second.
 *
 * <time data-countdown-to="ISO-8601">  → "m:ss" (or "h:mm:ss") to go; at the time "due now",
 *                                         then "overdue by n min"; class "is-due" once passed.
 * <time data-elapsed-since="ISO-8601"> → "m min" under an hour, then "h:mm".
 * [data-enable-at="ISO-8601"]          → a disabled control enabled once the time has come
 *                                         (the server checks again when it is used).
 * [data-server-now="ISO-8601"]         → optional: the server's time when the page was made,
 *                                         so a tablet whose clock is off still counts right.
 *
 * The server writes the same words inside each element, so the page reads right without JS.
 * Elements are looked up on every tick, so parts swapped in by htmx are picked up too.
 */
(function () {
  "use strict";
  var offset = 0;  // server time minus this device's time, in ms
  var seenServerNow = null;

  function now() { return Date.now() + offset; }

  function syncOffset() {
    var el = document.querySelector("[data-server-now]");
    if (!el) { return; }
    var stamp = el.getAttribute("data-server-now");
    if (stamp === seenServerNow) { return; }
    var server = Date.parse(stamp);
    if (!isNaN(server)) { offset = server - Date.now(); seenServerNow = stamp; }
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function countdown(el, t) {
    var seconds = Math.floor((Date.parse(el.getAttribute("data-countdown-to")) - t) / 1000);
    if (isNaN(seconds)) { return; }
    var text;
    if (seconds > 0) {
      var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
      text = h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
      el.classList.remove("is-due");
    } else {
      var late = Math.floor(-seconds / 60);
      text = late < 1 ? "due now" : "overdue by " + late + " min";
      el.classList.add("is-due");
    }
    if (el.textContent !== text) { el.textContent = text; }
  }

  function elapsed(el, t) {
    var minutes = Math.floor((t - Date.parse(el.getAttribute("data-elapsed-since"))) / 60000);
    if (isNaN(minutes)) { return; }
    minutes = Math.max(minutes, 0);
    var text = minutes < 60 ? minutes + " min" : Math.floor(minutes / 60) + ":" + pad(minutes % 60);
    if (el.textContent !== text) { el.textContent = text; }
  }

  function enable(el, t) {
    var at = Date.parse(el.getAttribute("data-enable-at"));
    if (!isNaN(at) && t >= at && el.disabled) {
      el.disabled = false;
      el.removeAttribute("aria-disabled");
    }
  }

  function tick() {
    syncOffset();
    var t = now();
    var i, list;
    list = document.querySelectorAll("[data-countdown-to]");
    for (i = 0; i < list.length; i++) { countdown(list[i], t); }
    list = document.querySelectorAll("[data-elapsed-since]");
    for (i = 0; i < list.length; i++) { elapsed(list[i], t); }
    list = document.querySelectorAll("[data-enable-at]");
    for (i = 0; i < list.length; i++) { enable(list[i], t); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", tick);
  } else {
    tick();
  }
  window.setInterval(tick, 1000);
})();
