/**
 * File formats: a minimal JSON reader/writer for specs and headers, safetensors and NumPy
 * {@code .npy} files (parameters and data arrays; float32/float64 written, int32/int64 also read),
 * NumPy {@code .npz} archives, IDX files (MNIST, Fashion-MNIST), and atomic file
 * writes (temporary file + rename), so that a failed write never leaves a half-written file under
 * the target name.
 *
 * <p>Every reader is bounded against corrupt or hostile files: lengths, offsets, shapes and element
 * counts are checked with overflow-safe arithmetic before anything is allocated, JSON nesting and size
 * are limited ({@link org.influence4j.api.io.Json#MAX_DEPTH}, {@link org.influence4j.api.io.Json#MAX_LENGTH}),
 * and every problem is the documented exception ({@link java.io.IOException} naming the file, or
 * {@link java.lang.IllegalArgumentException} for JSON text) with a one-line message naming the field.
 */
package org.influence4j.api.io;
