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
  var ui = new window.PagefindUI({
    element: "#search",
    baseUrl: root,
    showSubResults: false,
    showImages: false,
    resetStyles: false,
    autofocus: true
  });
  var query = new URLSearchParams(window.location.search).get("q");
  if (query) {
    ui.triggerSearch(query);
  }
})();
