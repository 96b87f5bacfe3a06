/** api/'s surface for its neighbours: they import these from here, never its modules. */
export { checkToken, startApiServer } from './server.js';
