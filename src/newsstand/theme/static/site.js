/* Newsstand: what the pages do better with a script. Each page reads right without it. */
(function () {
  "use strict";

  // A publisher's image that fails to load leaves nothing: no icon, no hole. Its card or header lays out as
  // if it had none (the class `has-image` is what makes room for it).
  function drop(img) {
    var room = img.closest(".has-image");
    if (room) {
      room.classList.remove("has-image");
    }
    img.remove();
  }
  function watch(img) {
    if (img.complete && img.naturalWidth === 0 && img.currentSrc) {
      drop(img); // failed before this script ran (it runs once the page is parsed)
    } else {
      img.addEventListener("error", function () { drop(img); });
    }
  }
  Array.prototype.forEach.call(document.querySelectorAll("img.thumb, img.hero"), watch);

  // Times as the reader's clock sees them. The page says when, absolutely; here "3 hours ago" is added for
  // the last two days, and the front page's "Today" and "Yesterday" (said of the build's newest report)
  // are said of the reader's today in the site's time zone.
  var now = Date.now();
  var zone = document.documentElement.getAttribute("data-zone") || "UTC";
  function ago(ms) {
    var minutes = Math.round(ms / 60000);
    if (minutes < 1) { return "just now"; }
    if (minutes < 60) { return minutes + (minutes === 1 ? " minute ago" : " minutes ago"); }
    var hours = Math.round(minutes / 60);
    return hours + (hours === 1 ? " hour ago" : " hours ago");
  }
  Array.prototype.forEach.call(document.querySelectorAll("time[datetime]"), function (el) {
    var value = el.getAttribute("datetime");
    if (value.length <= 10) { return; } // a day, not a moment
    var when = Date.parse(value);
    if (isNaN(when) || now - when < 0 || now - when > 48 * 3600000) { return; }
    el.title = el.textContent;
    el.textContent = ago(now - when);
  });
  var today;
  try {
    // en-CA writes dates as YYYY-MM-DD.
    var format = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" });
    today = format.format(new Date(now));
    var yesterday = format.format(new Date(now - 86400000));
  } catch (err) {
    return;
  }
  Array.prototype.forEach.call(document.querySelectorAll(".day-label[data-day]"), function (el) {
    var day = el.getAttribute("data-day");
    var title = el.getAttribute("data-title");
    var label = day === today ? "Today" : day === yesterday ? "Yesterday" : title;
    el.textContent = label;
    var date = el.parentNode.querySelector(".day-date");
    if (label === title && date) {
      date.remove();
    } else if (label !== title && !date) {
      date = document.createElement("span");
      date.className = "day-date";
      date.textContent = title;
      el.parentNode.appendChild(document.createTextNode(" "));
      el.parentNode.appendChild(date);
    }
  });
})();
