/* KetaCare session page: keep the nurse where she was.
 *
 * Every form on the page posts with htmx and the page's <main> comes back swapped in place.
 * Before the request this remembers where the form's section sat on the screen; as the new
 * page is swapped in it scrolls so that the same section sits at the same place, so a saved reading, a
 * dose or an acknowledgement never sends her to the top or the bottom of the page. New
 * alerts and the confirmation appear in the dock beside the work (at tablet width it stays
 * in view; on a phone the confirmation floats at the bottom of the screen).
 *
 * It also tells the stylesheet how tall the sticky bar is (--bar-height), so the dock sits
 * just under it. No dependencies; nothing here is needed for the page to work.
 */
(function () {
  "use strict";
  var kept = null;

  function sectionOf(el) {
    var node = el;
    while (node && node !== document.body) {
      if (node.id && (node.tagName === "SECTION" || node.tagName === "ASIDE" || node.tagName === "DETAILS")) { return node; }
      node = node.parentElement;
    }
    return null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail.elt;
    if (!source || !source.closest || !source.closest(".session-page")) { return; }
    if (source.closest("#session-live")) { return; }  // the live bar's own refresh
    var section = sectionOf(source);
    // A form in the sticky dock does not move with the page: keep the page's own scroll.
    var dock = source.closest(".session-dock");
    var pinned = dock && getComputedStyle(dock).position === "sticky";
    kept = section && !pinned
      ? { id: section.id, top: section.getBoundingClientRect().top, source: source }
      : { id: null, y: window.scrollY, source: source };
  });

  // Restored in the same task that puts the new page in place (afterSwap, not afterSettle):
  // the jump the swap causes is never painted.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!kept) { return; }
    // Only the form's own swap: a background refresh that settles meanwhile (the live bar, the
    // top bar's count) must not spend the place kept for it.
    var config = event.detail && event.detail.requestConfig;
    if (config && config.elt && config.elt !== kept.source) { return; }
    var place = kept;
    kept = null;
    var again = place.id ? document.getElementById(place.id) : null;
    if (again) {
      window.scrollBy(0, again.getBoundingClientRect().top - place.top);
    } else if (place.y !== undefined) {
      window.scrollTo(0, place.y);
    }
    measureBar();
    focusFirstError();
  });

  // After a refused form, put the keyboard on the first field in error (or on the form's own
  // error message when no single field is to blame).
  function focusFirstError() {
    var field = document.querySelector(".session-page .has-error input, .session-page .has-error select, .session-page .has-error textarea, .session-page .form-error");
    if (!field) { return; }
    if (!field.matches("input, select, textarea")) { field.setAttribute("tabindex", "-1"); }
    field.focus({ preventScroll: false });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirstError);
  } else {
    focusFirstError();
  }

  function measureBar() {
    var bar = document.getElementById("session-bar");
    if (bar) { document.documentElement.style.setProperty("--bar-height", bar.offsetHeight + "px"); }
  }

  document.addEventListener("click", function (event) {
    var jump = event.target.closest && event.target.closest(".vitals-jump");
    if (!jump) { return; }
    var first = document.querySelector("#vitals-entry input:not([type=hidden])");
    if (first) { event.preventDefault(); first.scrollIntoView({ block: "center" }); first.focus({ preventScroll: true }); }
  });

  // The floating "+ Vitals" button shows only while the vitals entry is out of sight.
  function watchVitals() {
    var entry = document.getElementById("vitals-entry");
    var jump = document.querySelector(".vitals-jump");
    if (!entry || !jump || !window.IntersectionObserver) { return; }
    new IntersectionObserver(function (seen) {
      jump.hidden = seen[0].isIntersecting;
    }).observe(entry);
  }
  document.addEventListener("htmx:afterSettle", watchVitals);
  document.addEventListener("DOMContentLoaded", watchVitals);

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", measureBar);
  } else {
    measureBar();
  }
  window.addEventListener("resize", measureBar);
  document.addEventListener("htmx:afterSwap", measureBar);
})();
