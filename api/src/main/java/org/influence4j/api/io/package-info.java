/**
 * File formats: a minimal JSON reader/writer for specs and headers, safetensors and NumPy
 * {@code .npy} files (parameters and data arrays; float32/float64 written, int32/int64 also read),
 * NumPy {@code .npz} archives read with bounds against corrupt or hostile entries, IDX files (MNIST,
 * Fashion-MNIST), and atomic file
 * writes (temporary file + rename), so that a failed write never leaves a half-written file under
 * the target name.
 */
package org.influence4j.api.io;
