/**
 * File formats: a minimal JSON reader/writer for specs and headers, safetensors and NumPy
 * {@code .npy} parameter files, and atomic file writes (temporary file + rename), so that a
 * failed write never leaves a half-written file under the target name.
 */
package org.influence4j.api.io;
