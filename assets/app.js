// pi-crm's only script besides htmx. No inline scripts anywhere: the CSP forbids them.
(function () {
  "use strict";
  // htmx requests carry the page's CSRF token as a header.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers["X-CSRF-Token"] = meta.content;
  });
  // Drop-down menus (<details class="menu">) close when you click elsewhere or press Escape.
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest("details.menu"));
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeMenus(null);
  });
  // After a pipeline move, the moved card's own "Move" keeps the keyboard's place.
  document.addEventListener("htmx:afterSwap", function () {
    var status = document.querySelector("#board-status[data-moved]");
    if (!status) return;
    var select = document.getElementById("move-" + status.getAttribute("data-moved"));
    if (select) select.focus();
  });
  // A form sent once: its buttons are disabled while the (possibly slow) Pi answers, so a
  // second tap does not send it twice. After the event, so the pressed button's own name and
  // value still go with the form; a page restored from the back-forward cache is enabled again.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || form.method.toLowerCase() !== "post") return;
    setTimeout(function () {
      form.querySelectorAll("button[type=submit]:not([disabled]), button:not([type]):not([disabled])").forEach(function (b) {
        b.disabled = true;
        b.setAttribute("data-sending", "");
      });
    }, 0);
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[data-sending]").forEach(function (b) {
      b.disabled = false;
      b.removeAttribute("data-sending");
    });
  });
})();
