// ReDoc on the API's own OpenAPI document, from the vendored standalone bundle (no CDN, no inline script).
// Its styled-components add <style> elements: they carry the per-response nonce the page's CSP allows.
"use strict";
const root = document.getElementById("redoc");
Redoc.init("/openapi.json", { nonce: root.dataset.nonce }, root);
