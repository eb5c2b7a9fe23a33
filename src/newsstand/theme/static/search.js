/* Newsstand search page: Pagefind's UI over the index built with the site, fed the query from ?q=. */
(function () {
  "use strict";
  var box = document.getElementById("search");
  if (!box) {
    return;
  }
  var off = document.getElementById("search-off");
  if (typeof window.PagefindUI !== "function") {
    if (off) {
      off.hidden = false;
    }
    return;
  }
  // The site's root, wherever it is served from (a domain root or a sub-path such as /news/).
  var root = new URL(".", new URL(box.getAttribute("data-root"), document.baseURI)).pathname;
  // The index comes in parts, one a month, each a bundle Pagefind merges into the primary one (pagefind/).
  var parts = (box.getAttribute("data-parts") || "").split(" ").filter(Boolean);
  var ui = new window.PagefindUI({
    element: "#search",
    baseUrl: root,
    mergeIndex: parts.map(function (part) {
      return { bundlePath: root + part, baseUrl: root };
    }),
    showSubResults: false,
    showImages: false,
    resetStyles: false,
    autofocus: true
  });
  // Pagefind's box is named by its title alone, which not every reader is told: give it a name.
  var input = box.querySelector("input");
  if (input) {
    input.setAttribute("aria-label", "Search stories, topics and sources");
  }
  var query = new URLSearchParams(window.location.search).get("q");
  if (query) {
    ui.triggerSearch(query);
  }
})();
