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
})();
