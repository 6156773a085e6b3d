// The held message's page (incidents/mailbox): the acknowledgement checkbox is shown only while
// the chosen organisation is one the sender is a contact of (the server refuses it otherwise).
(function () {
  "use strict";
  var select = document.getElementById("incident-organisation");
  var block = document.getElementById("incident-acknowledge-block");
  if (!select || !block) {
    return;
  }
  var box = block.querySelector("input[type=checkbox]");
  function update() {
    var option = select.options[select.selectedIndex];
    var allowed = Boolean(option && option.getAttribute("data-sender-contact") === "1");
    block.hidden = !allowed;
    if (!allowed && box) {
      box.checked = false;
    }
  }
  select.addEventListener("change", update);
  update();
})();
