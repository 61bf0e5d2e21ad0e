// The only script of our own (CSP: script-src 'self', no inline handlers).
// After htmx swaps new content in because the user did something (a click, a submit), move
// keyboard focus into it, so keyboard and screen-reader users land on what changed: the swapped
// element itself if it is focusable with tabindex="-1", else its first [autofocus] element or
// tabindex="-1" heading. Swaps from polling
// (hx-trigger "load"/"every") or from typing in a search box leave focus where it is.
(function () {
  "use strict";
  var KEEP_FOCUS = { input: true, keyup: true, search: true, change: true };
  document.addEventListener("htmx:afterSwap", function (event) {
    var swapped = event.target;
    var config = event.detail && event.detail.requestConfig;
    var trigger = config && config.triggeringEvent;
    if (!trigger || KEEP_FOCUS[trigger.type] || !swapped || !swapped.querySelector) { return; }
    var selector = "[autofocus], h1[tabindex='-1'], h2[tabindex='-1'], h3[tabindex='-1']";
    var focusable = swapped.matches("[autofocus], [tabindex='-1']") ? swapped : swapped.querySelector(selector);
    if (focusable) { focusable.focus(); }
  });
})();
