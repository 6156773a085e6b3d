/* Incident file: "Copy defanged" on each observable (CERT staff). Without scripts the buttons stay
   hidden; the defanged form is then in each button's title. */
(function () {
  "use strict";
  var live = document.getElementById("observables-copied");

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    var done = false;
    try { done = document.execCommand("copy"); } catch (error) { done = false; }
    document.body.removeChild(area);
    return done ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    }
    return fallbackCopy(text);
  }

  document.querySelectorAll("[data-copy-defanged]").forEach(function (button) {
    var label = button.textContent;
    button.classList.remove("d-none");
    button.addEventListener("click", function () {
      copy(button.dataset.copyDefanged).then(function () {
        button.textContent = button.dataset.copied;
        button.classList.add("vigie-copied");
        if (live) { live.textContent = button.dataset.copied + " " + button.dataset.copyDefanged; }
        window.setTimeout(function () {
          button.textContent = label;
          button.classList.remove("vigie-copied");
        }, 2000);
      });
    });
  });
})();
