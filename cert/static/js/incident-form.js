/* Vigie: the incident report form, enhanced. The form works without this file. */
(function () {
  "use strict";

  var form = document.querySelector("form[data-incident-form]");
  if (!form) { return; }

  // Sent back with errors: start at the summary, whose links lead to each field.
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }

  // A required choice hidden in a closed family: open it so the browser can point at it.
  form.addEventListener("invalid", function (event) {
    var family = event.target.closest("details");
    if (family) { family.open = true; }
  }, true);

  // Files: refuse in the browser what the server would refuse (the total size limit).
  var files = form.querySelector("input[type=file][data-max-bytes]");
  if (files) {
    files.addEventListener("change", function () {
      var total = 0;
      Array.prototype.forEach.call(files.files, function (file) { total += file.size; });
      var tooLarge = total > Number(files.dataset.maxBytes);
      files.setCustomValidity(tooLarge ? files.dataset.tooLarge : "");
      files.classList.toggle("is-invalid", tooLarge);
      if (tooLarge) { files.reportValidity(); }
    });
  }

  // One report per click: the button is disabled while the report is being sent.
  form.addEventListener("submit", function () {
    var button = form.querySelector("button[type=submit][data-sending]");
    if (button) {
      button.disabled = true;
      button.textContent = button.dataset.sending;
    }
  });
})();
