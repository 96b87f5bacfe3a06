// Kept for the public entry point (src/public/process.ts); the mechanism lives in os/.
export { isAlive, processStartTime, requireSignal, type SignalName, signalNames } from '../os/index.js';
