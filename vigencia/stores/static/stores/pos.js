// The store counter: show the cash or the card field, the change as the agent types, a print button,
// and a submit button that cannot be tapped twice (the server's Idempotency-Key is the real guard).
(function () {
  "use strict";
  var form = document.querySelector(".pos-sale");
  if (form) {
    var change = document.getElementById("pos-change");
    var tendered = form.querySelector("[name=tendered]");
    // Soles are written as Peru writes them (and as the receipt does) in every language: S/ 1,234.50.
    var money = new Intl.NumberFormat("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    var update = function () {
      var method = form.querySelector("[name=payment]:checked");
      form.classList.toggle("is-card", !!method && method.value === "card");
      form.classList.toggle("is-cash", !method || method.value === "cash");
      var plan = form.querySelector("[name=plan]:checked");
      var given = parseFloat((tendered.value || "").replace(",", "."));
      if (!plan || isNaN(given)) { change.textContent = ""; return; }
      var due = given * 100 - parseInt(plan.getAttribute("data-price-minor"), 10);
      change.textContent = due >= 0 ? change.getAttribute("data-label") + ": S/ " + money.format(Math.round(due) / 100) : "";
    };
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
    form.addEventListener("submit", function () {
      var button = form.querySelector(".js-once");
      window.setTimeout(function () { button.disabled = true; }, 0);
    });
  }
  var print = document.querySelector(".js-print");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
})();
