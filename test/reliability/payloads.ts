// Shared by hostile.spec.ts and hostile-docs.spec.ts (a spec file must not import another spec:
// Playwright would register its tests twice).

/** Script and event-handler payloads, including mutation-XSS shapes and pre-escaped text. */
export const PAYLOADS = [
  '<script>window.__pwned=1</script>',
  '<img src=x onerror="window.__pwned=1">',
  '<img src=x onerror=alert(1)>',
  '<svg onload="window.__pwned=1"><circle r=1 /></svg>',
  '<svg><script>window.__pwned=1</script></svg>',
  '<a href="javascript:window.__pwned=1">click</a>',
  'javascript:window.__pwned=1',
  '<iframe src="javascript:window.__pwned=1"></iframe>',
  '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
  '<body onload=window.__pwned=1>',
  '<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=1>',
  '"><img src=x onerror=window.__pwned=1>',
  "'><svg/onload=window.__pwned=1>",
  '<details open ontoggle=window.__pwned=1>',
  '<input autofocus onfocus=window.__pwned=1>',
  '<video><source onerror=window.__pwned=1></video>',
  '<style>@import "x"</style><link rel=stylesheet href=x>',
  '<meta http-equiv="refresh" content="0;url=javascript:window.__pwned=1">',
  '<object data="javascript:window.__pwned=1"></object>',
  '&lt;img src=x onerror=window.__pwned=1&gt;',
  '<!--<img src="--><img src=x onerror=window.__pwned=1//">',
  '<noscript><p title="</noscript><img src=x onerror=window.__pwned=1>">',
  '</mark><img src=x onerror=window.__pwned=1><mark>',
]
