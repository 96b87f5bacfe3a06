import { escapeHtml } from './html-escape.js';

/** The run report's page style, shared by `faultline check --html`'s summary page (see `reportPage`). */
const reportCss = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 20px 28px; color: #1f2328; }
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 17px; margin: 26px 0 8px; border-bottom: 1px solid #e6e8eb; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 6px; }
.reason { font-size: 15px; margin: 0 0 10px; }
.badge { font-size: 12px; padding: 2px 8px; border-radius: 10px; color: #fff; background: #57606a; vertical-align: 3px; }
.badge.pass { background: #1a7f37; } .badge.fail { background: #b42318; } .badge.unknown, .badge.error, .badge.interrupted, .badge.unfinished { background: #9a6700; }
code { font: 13px ui-monospace, monospace; background: #f6f8fa; padding: 1px 4px; border-radius: 4px; word-break: break-all; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { text-align: left; padding: 3px 10px; border-bottom: 1px solid #e6e8eb; vertical-align: top; }
th { color: #57606a; font-weight: 600; }
.facts th { white-space: nowrap; }
.check { border: 1px solid #d0d7de; border-left-width: 5px; border-radius: 6px; padding: 10px 14px; margin: 10px 0; max-width: 1100px; }
.check.pass { border-left-color: #1a7f37; } .check.fail { border-left-color: #b42318; background: #fffafa; } .check.unknown { border-left-color: #9a6700; }
.check p { margin: 4px 0; }
.anomaly { font: 13px ui-monospace, monospace; }
.note { color: #57606a; font-size: 13px; }
.legend span { display: inline-block; margin-right: 14px; font-size: 13px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: middle; margin-right: 4px; }
.scroll { overflow-x: auto; border: 1px solid #eef0f2; border-radius: 6px; }
svg text { font-family: ui-monospace, monospace; }
h4 { font-size: 14px; margin: 8px 0 2px; }
.kind + .kind { border-top: 1px dashed #e6e8eb; margin-top: 6px; }
footer { margin-top: 28px; color: #57606a; font-size: 12px; }
`;

/** A self-contained page in the report's style (no script, nothing fetched) around `body`. */
export function reportPage(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${reportCss}</style>
</head>
<body>
${body}</body>
</html>
`;
}
