// Every test process: space out Dawn's busy polling (src/gpu/polling.ts). The tests run on
// SwiftShader in CI, where that polling takes a core from the kernels; no test depends on its latency.
import { spaceOutDawnPolling } from '../../src/gpu/polling.js';

spaceOutDawnPolling();
