/** The `npm run export` process (see export.ts). */
import { exportCommand } from './export.js';

process.exitCode = exportCommand(process.argv.slice(2));
