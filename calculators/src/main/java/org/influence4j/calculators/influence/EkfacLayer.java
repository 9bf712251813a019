package org.influence4j.calculators.influence;

/**
 * The fitted (E)K-FAC representation of one block of parameters, as
 * {@link EkfacInfluence#representation()} exposes it (pyDVL's {@code EkfacRepresentation},
 * extended to convolutions, embeddings and the parameters of other layers).
 *
 * <p><b>Kinds and layouts.</b>
 * <ul>
 *   <li>{@link Kind#DENSE} and {@link Kind#CONV2D} ({@code W [out, in]}, a Conv2d weight flattened
 *       to {@code in = C·kh·kw}): with the augmented input {@code ã = [a, 1]} (just a without a
 *       bias; {@code sa} = in + 1 or in), the parameters are the matrix {@code [W | b]}
 *       {@code [out, sa]} and a sample's gradient is {@code Σ_t δ_t ã_tᵀ}. The block is
 *       {@code (Q_G ⊗ Q_A) diag(diagonal) (Q_G ⊗ Q_A)ᵀ}; {@code A [sa, sa]}, {@code G [out, out]},
 *       {@code diagonal [out, sa]}.</li>
 *   <li>{@link Kind#EMBEDDING} ({@code W [in, out]} = {@code [vocabulary, dim]}): A is diagonal (the
 *       expected count of each id per sample), so {@code inputFactor} and {@code eigenvaluesA} hold
 *       that diagonal {@code [in]}, {@code eigenvectorsA} is empty (the identity), and the block is
 *       {@code (I ⊗ Q_G) diag(diagonal) (I ⊗ Q_G)ᵀ} with {@code diagonal [in, out]}.</li>
 *   <li>{@link Kind#DIAGONAL} (the parameters of a layer without Kronecker structure, e.g. the scale
 *       and shift of LayerNorm and BatchNorm): {@code inFeatures} is the number of parameters,
 *       {@code outFeatures} 1, the factor arrays are empty, and the block is
 *       {@code diag(diagonal)}, {@code diagonal [in]}: the exact diagonal of the curvature in the
 *       parameter basis (EK-FAC's eigenvalue correction with the identity as eigenbasis).</li>
 * </ul>
 *
 * <p>All matrices are row-major double arrays; accessors return copies.
 *
 * @param kind            what the block is
 * @param layerIndex      the layer's index ({@code ModelSpec.layers()} for format 1, {@code ModelGraph.nodes()}
 *                        for a layer graph)
 * @param parameterOffset offset of the block's first parameter in θ (W; b follows W)
 * @param inFeatures      in (vocabulary for EMBEDDING, number of parameters for DIAGONAL)
 * @param outFeatures     out (1 for DIAGONAL)
 * @param bias            whether a bias follows W (DENSE, CONV2D)
 * @param inputFactor     A, {@code [sa, sa]}; its diagonal {@code [in]} for EMBEDDING
 * @param gradientFactor  G, {@code [out, out]} (see {@link EkfacCurvature})
 * @param eigenvaluesA    eigenvalues of A, ascending ({@code [sa]}), or A's diagonal for EMBEDDING
 * @param eigenvectorsA   Q_A as columns, {@code [sa, sa]}; empty for EMBEDDING
 * @param eigenvaluesG    eigenvalues of G, ascending, {@code [out]}
 * @param eigenvectorsG   Q_G as columns, {@code [out, out]}
 * @param diagonal        curvature eigenvalues: the products of the factors' eigenvalues (K-FAC) or,
 *                        after the diagonal refit (always for DIAGONAL), the mean over samples of the
 *                        expected squared gradient coordinates in the eigenbasis
 */
public record EkfacLayer(Kind kind, int layerIndex, int parameterOffset, int inFeatures, int outFeatures,
                         boolean bias, double[] inputFactor, double[] gradientFactor, double[] eigenvaluesA,
                         double[] eigenvectorsA, double[] eigenvaluesG, double[] eigenvectorsG, double[] diagonal) {

    /** What a block is. */
    public enum Kind {
        /** A Dense layer. */
        DENSE,
        /** A 2-D convolution (KFC: factors over patches and output positions). */
        CONV2D,
        /** An embedding table. */
        EMBEDDING,
        /** Parameters without Kronecker structure, with a diagonal curvature. */
        DIAGONAL
    }

    /** @throws IllegalArgumentException if an array has the wrong length for {@code kind} */
    public EkfacLayer {
        if (kind == null) {
            throw new IllegalArgumentException("kind: must not be null");
        }
        int sa = inFeatures + (bias ? 1 : 0);
        int sg = outFeatures;
        boolean kronecker = kind == Kind.DENSE || kind == Kind.CONV2D;
        boolean embedding = kind == Kind.EMBEDDING;
        boolean diagonalOnly = kind == Kind.DIAGONAL;
        require(inputFactor, kronecker ? sa * sa : embedding ? inFeatures : 0, "inputFactor");
        require(gradientFactor, diagonalOnly ? 0 : sg * sg, "gradientFactor");
        require(eigenvaluesA, kronecker ? sa : embedding ? inFeatures : 0, "eigenvaluesA");
        require(eigenvectorsA, kronecker ? sa * sa : 0, "eigenvectorsA");
        require(eigenvaluesG, diagonalOnly ? 0 : sg, "eigenvaluesG");
        require(eigenvectorsG, diagonalOnly ? 0 : sg * sg, "eigenvectorsG");
        require(diagonal, kronecker ? sg * sa : inFeatures * sg, "diagonal");
        inputFactor = inputFactor.clone();
        gradientFactor = gradientFactor.clone();
        eigenvaluesA = eigenvaluesA.clone();
        eigenvectorsA = eigenvectorsA.clone();
        eigenvaluesG = eigenvaluesG.clone();
        eigenvectorsG = eigenvectorsG.clone();
        diagonal = diagonal.clone();
    }

    private static void require(double[] a, int length, String name) {
        if (a == null || a.length != length) {
            throw new IllegalArgumentException(name + ": expected " + length + " values, got "
                    + (a == null ? "null" : a.length));
        }
    }

    /** @return the width of the augmented input: {@code in + 1} with a bias, else in */
    public int augmentedInFeatures() {
        return inFeatures + (bias ? 1 : 0);
    }

    /** @return the number of parameters of the block (the length of {@link #diagonal()}) */
    public int numParameters() {
        return diagonal.length;
    }

    @Override
    public double[] inputFactor() {
        return inputFactor.clone();
    }

    @Override
    public double[] gradientFactor() {
        return gradientFactor.clone();
    }

    @Override
    public double[] eigenvaluesA() {
        return eigenvaluesA.clone();
    }

    @Override
    public double[] eigenvectorsA() {
        return eigenvectorsA.clone();
    }

    @Override
    public double[] eigenvaluesG() {
        return eigenvaluesG.clone();
    }

    @Override
    public double[] eigenvectorsG() {
        return eigenvectorsG.clone();
    }

    @Override
    public double[] diagonal() {
        return diagonal.clone();
    }

    /** @return a copy with another diagonal (the refit) */
    EkfacLayer withDiagonal(double[] newDiagonal) {
        return new EkfacLayer(kind, layerIndex, parameterOffset, inFeatures, outFeatures, bias, inputFactor,
                gradientFactor, eigenvaluesA, eigenvectorsA, eigenvaluesG, eigenvectorsG, newDiagonal);
    }

    @Override
    public String toString() {
        return "EkfacLayer[" + kind + " layer " + layerIndex + ", " + (kind == Kind.DIAGONAL ? inFeatures
                + " parameters" : outFeatures + "x" + inFeatures + (bias ? "+bias" : "")) + "]";
    }
}
