// The portal's few behaviours in the browser; the pages work without them (reads fully, forms
// with a reload). Loaded as a file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";

  // Live regions (data-poll) poll every second; a hidden tab asks for nothing.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var element = event.detail.elt;
    if (document.hidden && element && element.hasAttribute("data-poll")) {
      event.preventDefault();
    }
  });

  // "Copy" buttons: <button data-copy="id-of-the-element-whose-text-to-copy">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button || !navigator.clipboard) {
      return;
    }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      var label = button.textContent;
      button.textContent = button.getAttribute("data-copied") || "Copied";
      window.setTimeout(function () { button.textContent = label; }, 2000);
    });
  });

  // "Select all" checkboxes: <input type="checkbox" data-select-all="name-of-the-boxes">.
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) {
      return;
    }
    var name = all.getAttribute("data-select-all");
    document.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });

  // The browser's time zone, for the pages' times when the person chose none in their settings
  // (connections/pages/preferences.py reads the cookie; an IANA name needs no escaping).
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("portal_tz=" + zone) === -1) {
      document.cookie = "portal_tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (ignored) { /* an old browser: the server's zone, said beside every time */ }

  // Buttons shown only where scripts run (copy, select all): hidden in the markup by default.
  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.classList.add("js");
  });
})();
