/** report/'s surface for its neighbours: they import these from here, never its modules. */
export { renderLinearizabilityHtml } from './linearizability-html.js';
