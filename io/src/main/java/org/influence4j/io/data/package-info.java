/**
 * Data sources read from files — numeric CSV ({@link org.influence4j.io.data.CsvDataSource}) and
 * typed arrays of any per-sample shape from {@code .npy}, {@code .npz} and {@code .safetensors}
 * ({@link org.influence4j.io.data.ArrayDataSource}) — and the bundled data sets
 * ({@link org.influence4j.io.data.BundledDatasets}: scikit-learn's digits and breast cancer, with their
 * licences in the repository's {@code NOTICE}).
 */
package org.influence4j.io.data;
