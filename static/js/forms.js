// Small form behaviours, kept out of the markup: the Content-Security-Policy allows no inline
// handler. A select marked data-submit-on-change (the language switch) submits its form.
(function () {
  "use strict";
  document.querySelectorAll("select[data-submit-on-change]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
