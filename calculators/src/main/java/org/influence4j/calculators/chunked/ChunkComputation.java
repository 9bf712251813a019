package org.influence4j.calculators.chunked;

import java.io.Serializable;
import java.util.Arrays;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;
import org.influence4j.api.data.Batch;
import org.influence4j.api.influence.InfluenceMode;

/**
 * One of pyDVL's three chunked operations, with its inputs and result layout: a pure description
 * (serializable, no model inside) whose blocks any {@link InfluenceWorker} can compute.
 *
 * <ul>
 *   <li>{@link #factors}: block (i, 0) = {@code influenceFactors(data chunk i)}, shape {@code [m_i, p]};</li>
 *   <li>{@link #influences}: block (i, j) = {@code influences(test chunk i, train chunk j, mode)},
 *       shape {@code [m_i, n_j]} (UP) or {@code [m_i, n_j, numFeatures]} (PERTURBATION);</li>
 *   <li>{@link #fromFactors}: block (i, j) = {@code influencesFromFactors(factor rows of chunk i,
 *       train chunk j, mode)}, same shapes.</li>
 * </ul>
 * Factor blocks enter the model as {@link DType#FLOAT64} tensors.
 */
public final class ChunkComputation implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The operation. */
    public enum Kind {
        /** H⁻¹∇θℓ per sample. */
        FACTORS,
        /** Influences of training chunks on test chunks. */
        INFLUENCES,
        /** Influences from precomputed factors. */
        FROM_FACTORS
    }

    private final Kind kind;
    private final ChunkedData rows;
    private final ChunkedArray factorRows;
    private final ChunkedData cols;
    private final InfluenceMode mode;
    private final ChunkLayout layout;

    private ChunkComputation(Kind kind, ChunkedData rows, ChunkedArray factorRows, ChunkedData cols,
            InfluenceMode mode, ChunkLayout layout) {
        this.kind = kind;
        this.rows = rows;
        this.factorRows = factorRows;
        this.cols = cols;
        this.mode = mode;
        this.layout = layout;
    }

    /**
     * @param data          samples whose factors are computed
     * @param numParameters p
     * @throws IllegalArgumentException naming a null or inconsistent argument
     */
    public static ChunkComputation factors(ChunkedData data, int numParameters) {
        requireData(data, "data");
        if (numParameters <= 0) {
            throw new IllegalArgumentException("numParameters: must be > 0, got " + numParameters);
        }
        return new ChunkComputation(Kind.FACTORS, data, null, null, null,
                ChunkLayout.of(data.chunkSizes(), new long[] {numParameters}));
    }

    /**
     * @param test  test samples (rows of the result)
     * @param train training samples (columns); {@code null} means {@code test} itself (pyDVL's default)
     * @param mode  UP or PERTURBATION
     * @throws IllegalArgumentException naming a null or inconsistent argument
     */
    public static ChunkComputation influences(ChunkedData test, ChunkedData train, InfluenceMode mode) {
        requireData(test, "test");
        ChunkedData other = train == null ? test : train;
        requireSameWidths(test, other);
        requireMode(mode);
        return new ChunkComputation(Kind.INFLUENCES, test, null, other, mode, layout(test.chunkSizes(), other, mode));
    }

    /**
     * @param factors       precomputed factors {@code [m, p]}, chunked along rows only
     * @param train         training samples (columns)
     * @param mode          UP or PERTURBATION
     * @param numParameters p
     * @throws IllegalArgumentException if factors are chunked along dimension 1, have the wrong
     *     width, or an argument is null
     */
    public static ChunkComputation fromFactors(ChunkedArray factors, ChunkedData train, InfluenceMode mode,
            int numParameters) {
        if (factors == null) {
            throw new IllegalArgumentException("factors: must not be null");
        }
        requireData(train, "train");
        requireMode(mode);
        long[] shape = factors.shape();
        if (shape.length != 2 || shape[1] != numParameters) {
            throw new IllegalArgumentException("factors: shape " + Arrays.toString(shape) + " is not [m, "
                    + numParameters + "]; pass the influence factors of this model");
        }
        factors.requireOnlyRowsChunked("factors");
        return new ChunkComputation(Kind.FROM_FACTORS, null, factors, train, mode,
                layout(factors.rowChunks(), train, mode));
    }

    private static ChunkLayout layout(long[] rowChunks, ChunkedData cols, InfluenceMode mode) {
        return mode == InfluenceMode.UP ? ChunkLayout.of(rowChunks, cols.chunkSizes())
                : ChunkLayout.of(rowChunks, cols.chunkSizes(), cols.numFeatures());
    }

    private static void requireData(ChunkedData data, String name) {
        if (data == null) {
            throw new IllegalArgumentException(name + ": must not be null");
        }
    }

    private static void requireSameWidths(ChunkedData test, ChunkedData train) {
        if (test.numFeatures() != train.numFeatures() || test.labelWidth() != train.labelWidth()) {
            throw new IllegalArgumentException("train: has " + train.numFeatures() + " features and label width "
                    + train.labelWidth() + " but test has " + test.numFeatures() + " and " + test.labelWidth());
        }
    }

    private static void requireMode(InfluenceMode mode) {
        if (mode == null) {
            throw new IllegalArgumentException("mode: must not be null; use InfluenceMode.UP");
        }
    }

    /** @return the operation */
    public Kind kind() {
        return kind;
    }

    /** @return the influence mode, or {@code null} for {@link Kind#FACTORS} */
    public InfluenceMode mode() {
        return mode;
    }

    /** @return the result's shape and block grid */
    public ChunkLayout layout() {
        return layout;
    }

    /**
     * Computes one block with {@code worker}'s model in a fresh scope of its backend.
     *
     * @throws IllegalStateException if the model returns a tensor of the wrong shape
     */
    public Chunk compute(ChunkIndex index, InfluenceWorker worker) {
        long[] expected = layout.chunkShape(index);
        try (TensorScope scope = worker.backend().newScope()) {
            Tensor result;
            switch (kind) {
                case FACTORS -> result = worker.model().influenceFactors(rows.chunk(index.row()), scope);
                case INFLUENCES -> result = worker.model().influences(rows.chunk(index.row()),
                        cols.chunk(index.col()), mode, scope);
                case FROM_FACTORS -> {
                    Batch train = cols.chunk(index.col());
                    Tensor z = scope.fromArray(factorRows.rowChunk(index.row()), DType.FLOAT64,
                            expected[0], factorRows.rowWidth());
                    result = worker.model().influencesFromFactors(z, train, mode, scope);
                }
                default -> throw new IllegalStateException("unknown kind " + kind);
            }
            long[] shape = result.shape();
            if (!Arrays.equals(shape, expected)) {
                throw new IllegalStateException("the influence model returned shape " + Arrays.toString(shape)
                        + " for block " + index + " of " + kind + " but " + Arrays.toString(expected)
                        + " was expected");
            }
            return new Chunk(index, layout.rowOffset(index.row()), layout.colOffset(index.col()), expected,
                    result.toDoubleArray());
        }
    }

    @Override
    public String toString() {
        return "ChunkComputation[" + kind + (mode == null ? "" : ", " + mode) + ", " + layout + "]";
    }
}
