/* Vigie: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // Scripts run: let Bootstrap's collapsible menu work (see .vigie-no-js in vigie.css).
  document.documentElement.classList.remove("vigie-no-js");

  // <form data-confirm="Question?">: ask before submitting (revoking a token…).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  });

  // <input data-select-on-focus>: select the whole value (a new API token) on focus.
  document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // <button data-copy="#selector" data-copied="Copied">: copy a field's value, when the browser can.
  if (navigator.clipboard) {
    document.querySelectorAll("[data-copy]").forEach(function (button) {
      var target = document.querySelector(button.dataset.copy);
      if (!target) { return; }
      button.classList.remove("d-none");
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(target.value).then(function () {
          button.textContent = button.dataset.copied || button.textContent;
        });
      });
    });
  }

  // Keyboard shortcuts of CERT staff pages (<body data-queue-url>): "?" lists them (the
  // #vigie-shortcuts dialog), "g" then "q" goes to the queue. The queue adds its own (js/queue.js).
  var queueUrl = document.body.dataset.queueUrl;
  var help = document.getElementById("vigie-shortcuts");
  if (queueUrl && help && typeof help.showModal === "function") {
    var pendingG = 0;
    var showHelp = function () { if (!help.open) { help.showModal(); } };
    document.querySelectorAll("[data-shortcuts-open]").forEach(function (button) {
      button.addEventListener("click", showHelp);
    });
    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || help.open) { return; }
      if (window.vigieTyping(event.target)) { return; }
      if (event.key === "?") {
        event.preventDefault();
        showHelp();
      } else if (event.key === "g") {
        pendingG = Date.now();
      } else if (event.key === "q" && Date.now() - pendingG < 1500) {
        pendingG = 0;
        event.preventDefault();
        window.location.assign(queueUrl);
      } else {
        pendingG = 0;
      }
    });
  }
})();

// Is the user typing in this element (a field, a list, an editable area)? Shortcuts wait.
window.vigieTyping = function (element) {
  if (!(element instanceof Element)) { return false; }
  if (element.isContentEditable) { return true; }
  var tag = element.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") { return true; }
  if (tag !== "INPUT") { return false; }
  return ["checkbox", "radio", "button", "submit", "reset"].indexOf(element.type) === -1;
};
