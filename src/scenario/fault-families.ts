// Every folder that defines faults registers them as it loads: importing this module fills the registry
// for the commands that list or validate faults.
import '../net/index.js';
import '../process/index.js';
import '../proxy/index.js';
import '../resource/index.js';
