/**
 * The library's version, as package.json gives it (test/build/version.test.ts keeps the two equal):
 * what exported files say made them (the ONNX export's producer_version and metadata).
 */
export const VERSION = '0.1.0';
