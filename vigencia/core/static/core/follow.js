// Follows something under way (an order, a wallet top-up, a Telegram chat being connected) until it
// settles, then reloads the page to show the result.
// [data-follow-url] polls a JSON status ({status, final}); [data-follow-page] re-reads this page and
// compares the element's data-status. The receipt's print button also lives here.
(function () {
  "use strict";
  var print = document.querySelector(".js-print");
  if (print) {
    print.hidden = false;
    print.addEventListener("click", function () { window.print(); });
  }
  var box = document.querySelector("[data-follow-url], [data-follow-page]");
  if (!box) { return; }
  var url = box.getAttribute("data-follow-url");
  var current = box.getAttribute("data-status");
  var tries = 0;
  function statusOf(response) {
    if (url) { return response.json(); }
    return response.text().then(function (html) {
      var page = new DOMParser().parseFromString(html, "text/html");
      var again = page.querySelector("[data-follow-page]");
      var status = page.querySelector("[data-status]");
      return { status: status ? status.getAttribute("data-status") : current, final: !again };
    });
  }
  function poll() {
    tries += 1;
    // The page's own address with its query (the wallet's ?topup=): the same page, not another.
    fetch(url || window.location.pathname + window.location.search, { credentials: "same-origin", headers: { "Accept": url ? "application/json" : "text/html" } })
      .then(statusOf)
      .then(function (body) {
        if (body.status !== current) { window.location.reload(); return; }
        if (!body.final && tries < 150) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { if (tries < 150) { window.setTimeout(poll, 4000); } });
  }
  window.setTimeout(poll, 1000);
})();
