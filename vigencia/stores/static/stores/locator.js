// The store locator: "use my location" fills the form from the browser's geolocation, and a Leaflet
// map shows the listed stores. Without this script, or without map tiles, the list works alone.
(function () {
  "use strict";
  var form = document.getElementById("locator-form");
  var button = document.getElementById("use-my-location");
  var message = document.getElementById("locator-message");

  if (form && button && "geolocation" in navigator) {
    button.hidden = false;
    button.addEventListener("click", function () {
      message.textContent = button.getAttribute("data-locating");
      navigator.geolocation.getCurrentPosition(
        function (position) {
          document.getElementById("locator-lat").value = position.coords.latitude.toFixed(6);
          document.getElementById("locator-lng").value = position.coords.longitude.toFixed(6);
          document.getElementById("locator-district").value = "";
          form.submit();
        },
        function () { message.textContent = button.getAttribute("data-denied"); },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 300000 }
      );
    });
  }

  var box = document.getElementById("store-map");
  var items = document.querySelectorAll("#store-list li[data-lat]");
  if (!box || typeof window.L === "undefined" || items.length === 0) { return; }
  box.hidden = false;
  // Leaflet guesses its marker images' folder from its stylesheet, which fails once the static files
  // carry hashed names: give it their real addresses.
  window.L.Icon.Default.imagePath = "";
  window.L.Icon.Default.mergeOptions({
    iconUrl: box.getAttribute("data-marker"),
    iconRetinaUrl: box.getAttribute("data-marker-2x"),
    shadowUrl: box.getAttribute("data-marker-shadow")
  });
  var map = window.L.map(box, { scrollWheelZoom: false });
  var tiles = window.L.tileLayer(box.getAttribute("data-tiles"), {
    maxZoom: 19,
    attribution: box.getAttribute("data-attribution")
  });
  var failures = 0;
  tiles.on("tileerror", function () {
    failures += 1;
    if (failures === 3) {
      box.classList.add("tiles-failed");
      message.textContent = box.getAttribute("data-tiles-failed");
    }
  });
  tiles.addTo(map);
  var points = [];
  items.forEach(function (item) {
    var point = [parseFloat(item.getAttribute("data-lat")), parseFloat(item.getAttribute("data-lng"))];
    points.push(point);
    window.L.marker(point, { title: item.getAttribute("data-name") }).addTo(map)
      .bindPopup(item.querySelector("h2").textContent);
  });
  if (box.hasAttribute("data-lat")) {
    var origin = [parseFloat(box.getAttribute("data-lat")), parseFloat(box.getAttribute("data-lng"))];
    window.L.circleMarker(origin, { radius: 7 }).addTo(map);
    points.push(origin);
  }
  map.fitBounds(window.L.latLngBounds(points).pad(0.15), { maxZoom: 16 });
})();
