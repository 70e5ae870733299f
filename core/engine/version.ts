// The engine's version, against which plugin manifests' `engine` ranges are checked.
// It follows package.json's version (a test keeps the two equal).
export const ENGINE_VERSION = '0.1.0';
