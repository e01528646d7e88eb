// Follows an order until it settles: polls its status and reloads the page when it changes.
(function () {
  "use strict";
  var box = document.querySelector("[data-follow-url]");
  if (!box) { return; }
  var url = box.getAttribute("data-follow-url");
  var current = box.getAttribute("data-status");
  var tries = 0;
  function poll() {
    tries += 1;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        if (body.status !== current) { window.location.reload(); return; }
        if (!body.final && tries < 150) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { if (tries < 150) { window.setTimeout(poll, 4000); } });
  }
  window.setTimeout(poll, 1500);
})();
