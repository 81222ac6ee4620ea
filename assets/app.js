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
  // After a pipeline move, the moved card's own "Move" keeps the keyboard's place; on a phone,
  // where the card went to a stage not on screen, the message saying where it went does.
  document.addEventListener("htmx:afterSwap", function () {
    var status = document.querySelector("#board-status[data-moved]");
    if (!status) return;
    var select = document.getElementById("move-" + status.getAttribute("data-moved"));
    if (select && select.offsetParent !== null) select.focus();
    else status.focus();
  });
  // A text's live counter: characters as the network counts them and how many texts it costs
  // (160 GSM-7 characters in one, 153 each when split; 70 / 67 once any character needs
  // UCS-2) — the same rule as providers/sms/segments.rs.
  var GSM = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var GSM_EXT = "^{}\\[~]|€\f";
  function smsCount(text) {
    var units = 0, gsm = true;
    for (var ch of text) {
      if (GSM.indexOf(ch) >= 0) units += 1;
      else if (GSM_EXT.indexOf(ch) >= 0) units += 2;
      else { gsm = false; break; }
    }
    if (!gsm) units = text.length; // UTF-16 code units, as the network counts UCS-2
    var single = gsm ? 160 : 70, part = gsm ? 153 : 67;
    return { units: units, texts: units <= single ? 1 : Math.ceil(units / part), gsm: gsm };
  }
  function updateCounter(area) {
    var out = document.getElementById(area.getAttribute("data-sms-counter"));
    if (!out) return;
    var c = smsCount(area.value);
    out.textContent = c.units + " characters · " + c.texts + (c.texts === 1 ? " text" : " texts") +
      (c.gsm ? "" : " (emoji or special letters: 70 per text)");
  }
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("textarea[data-sms-counter]")) updateCounter(event.target);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-sms-counter]").forEach(updateCounter);
  });
  // A form sent once: its buttons are disabled while the (possibly slow) Pi answers, so a
  // second tap does not send it twice. After the event, so the pressed button's own name and
  // value still go with the form; a page restored from the back-forward cache is enabled again.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || form.method.toLowerCase() !== "post") return;
    // A post into a frame (the template preview) leaves this page as it is.
    if (event.submitter && event.submitter.hasAttribute("formtarget")) return;
    setTimeout(function () {
      form.querySelectorAll("button[type=submit]:not([disabled]), button:not([type]):not([disabled])").forEach(function (b) {
        b.disabled = true;
        b.setAttribute("data-sending", "");
      });
    }, 0);
  });
  // The template editor: its preview frame is refreshed a moment after typing stops (the
  // form is posted into the sandboxed frame by its Preview button); email-only fields follow
  // the channel; a placeholder chip is inserted where the cursor is.
  var previewTimer = null;
  function refreshPreview(form) {
    var button = form.querySelector("[data-preview-button]");
    if (button && form.requestSubmit) form.requestSubmit(button);
  }
  function schedulePreview(event) {
    // A field of the form placed outside it (form="…") counts too.
    var owner = event.target.form;
    var form = owner && owner.matches("form[data-live-preview]")
      ? owner
      : event.target.closest && event.target.closest("form[data-live-preview]");
    if (!form) return;
    clearTimeout(previewTimer);
    previewTimer = setTimeout(function () { refreshPreview(form); }, 700);
  }
  function showChannel(select) {
    var email = select.value !== "text";
    document.querySelectorAll("[data-email-only]").forEach(function (el) { el.hidden = !email; });
  }
  document.addEventListener("input", schedulePreview);
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-channel-select]")) showChannel(event.target);
    schedulePreview(event);
  });
  document.addEventListener("click", function (event) {
    var chip = event.target.closest && event.target.closest("[data-insert]");
    if (!chip) return;
    var area = document.getElementById(chip.getAttribute("data-insert-into"));
    if (!area || area.readOnly) return;
    var text = chip.getAttribute("data-insert");
    var start = area.selectionStart || 0, end = area.selectionEnd || 0;
    area.value = area.value.slice(0, start) + text + area.value.slice(end);
    area.focus();
    area.selectionStart = area.selectionEnd = start + text.length;
    area.dispatchEvent(new Event("input", { bubbles: true }));
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-live-preview]").forEach(refreshPreview);
  });
  // The pipeline: a card dropped on another column moves there through the card's own Move
  // form, the same request the keyboard's Move makes (and the same htmx swap of the board).
  var dragged = null;
  function clearDropTargets() {
    document.querySelectorAll("[data-stage].drop-target").forEach(function (c) {
      c.classList.remove("drop-target");
    });
  }
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("[data-card]");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.getAttribute("data-card"));
    card.classList.add("dragging");
  });
  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    clearDropTargets();
  });
  document.addEventListener("dragover", function (event) {
    var column = dragged && event.target.closest && event.target.closest("[data-stage]");
    if (!column || column === dragged.closest("[data-stage]")) return;
    event.preventDefault();
    clearDropTargets();
    column.classList.add("drop-target");
  });
  document.addEventListener("drop", function (event) {
    var column = dragged && event.target.closest && event.target.closest("[data-stage]");
    if (!column || column === dragged.closest("[data-stage]")) return;
    event.preventDefault();
    var form = dragged.querySelector("form");
    var select = form && form.querySelector("select[name=stage]");
    clearDropTargets();
    if (!select) return;
    select.value = column.getAttribute("data-stage");
    form.requestSubmit();
  });
  // The contacts list: the header's box ticks every contact on the page (the table's and the
  // phone cards' boxes are the same contacts, so both follow).
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-select-all]");
    if (!all) return;
    document.querySelectorAll('input[type=checkbox][name=ids][form=bulk]').forEach(function (box) {
      box.checked = all.checked;
    });
  });
  // A link made without a public address is a path: completed with the address this browser
  // uses for pi-crm, which is where the person it is for (on the same home network) opens it.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[data-link-from-here]").forEach(function (input) {
      input.value = new URL(input.value, window.location.href).href;
    });
  });
  // A "Copy" button copies its input; where the clipboard API is not offered (plain http on
  // the home network is not a secure context) the text is selected for the person to copy.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) return;
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) return;
    input.select();
    var done = function () { button.textContent = "Copied"; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {});
    } else if (document.execCommand && document.execCommand("copy")) {
      done();
    }
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[data-sending]").forEach(function (b) {
      b.disabled = false;
      b.removeAttribute("data-sending");
    });
  });
})();
