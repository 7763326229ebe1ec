// Confirmation with a short countdown the client can still cancel, for forms marked
// data-confirm (stop, stop and close, emergency stop). The server acts only on confirmed=yes;
// without this script it answers with a confirmation page instead.
(function () {
  "use strict";
  // Words come from the page (data-t-* on <body>), so they are in the translation catalogue.
  var words = document.body.dataset;
  var T = {
    cancel: words.tCancel || "Cancel",
    now: words.tNow || "Do it now",
    counting: words.tCounting || "Going ahead in {s} s…",
    cancelled: words.tCancelled || "Cancelled: nothing was done."
  };

  function dialogFor(form) {
    var dialog = document.createElement("dialog");
    dialog.className = "confirm-dialog";
    dialog.innerHTML = '<p class="question"></p><p class="countdown" aria-live="polite"></p>' +
      '<div class="actions"><button type="button" class="secondary cancel"></button>' +
      '<button type="button" class="danger go"></button></div>';
    dialog.querySelector(".question").textContent = form.dataset.confirm;
    dialog.querySelector(".cancel").textContent = T.cancel;
    dialog.querySelector(".go").textContent = T.now;
    document.body.appendChild(dialog);
    return dialog;
  }

  function submitConfirmed(form) {
    form.querySelector("input[name=confirmed]").value = "yes";
    form.dataset.confirmed = "1";
    form.submit();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.confirm || form.dataset.confirmed === "1") { return; }
    event.preventDefault();
    var dialog = dialogFor(form);
    var left = parseInt(form.dataset.countdown || "5", 10);
    var counter = dialog.querySelector(".countdown");
    var timer = null;
    function tick() {
      counter.textContent = T.counting.replace("{s}", String(left));
      if (left <= 0) { clearInterval(timer); dialog.close(); submitConfirmed(form); }
      left -= 1;
    }
    dialog.querySelector(".cancel").addEventListener("click", function () {
      clearInterval(timer);
      dialog.close();
      dialog.remove();
      var note = document.getElementById("live-status");
      if (note) { note.textContent = T.cancelled; }
    });
    dialog.querySelector(".go").addEventListener("click", function () {
      clearInterval(timer); dialog.close(); submitConfirmed(form);
    });
    dialog.showModal();
    tick();
    timer = setInterval(tick, 1000);
  });
})();
