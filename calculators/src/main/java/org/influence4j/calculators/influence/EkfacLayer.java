package org.influence4j.calculators.influence;

/**
 * The fitted (E)K-FAC representation of one Dense layer {@code z = W a + b} ({@code W [out, in]}),
 * as {@link EkfacInfluence#representation()} exposes it (pyDVL's {@code EkfacRepresentation}).
 *
 * <p>With the augmented input {@code ã = [a, 1]}, the layer's parameter vector is arranged as the
 * matrix {@code [W | b]} of shape {@code [out, in+1]}, and its per-sample gradient is
 * {@code δ ãᵀ}. The curvature block is approximated in the Kronecker eigenbasis
 * {@code Q_G ⊗ Q_A} with eigenvalues {@code diagonal}:
 * {@code H_l ≈ (Q_G ⊗ Q_A) diag(diagonal) (Q_G ⊗ Q_A)ᵀ}.
 *
 * <p>All matrices are row-major double arrays; accessors return copies.
 *
 * @param layerIndex       index of the Dense layer in {@code ModelSpec.layers()}
 * @param parameterOffset  offset of W in the flat parameters (b follows W)
 * @param inFeatures       in
 * @param outFeatures      out
 * @param inputFactor      {@code A = (1/n) Σ ã ãᵀ}, {@code [in+1, in+1]}
 * @param gradientFactor   {@code G}, {@code [out, out]} (see {@link EkfacCurvature})
 * @param eigenvaluesA     eigenvalues of A, ascending, {@code [in+1]}
 * @param eigenvectorsA    Q_A, eigenvectors of A as columns, {@code [in+1, in+1]}
 * @param eigenvaluesG     eigenvalues of G, ascending, {@code [out]}
 * @param eigenvectorsG    Q_G, eigenvectors of G as columns, {@code [out, out]}
 * @param diagonal         curvature eigenvalues {@code [out, in+1]}: {@code λ_G[o]·λ_A[j]} (K-FAC) or,
 *                         after the diagonal refit, {@code (1/n) Σ_i E[((Q_Gᵀδ_i)_o (Q_Aᵀã_i)_j)²]}
 */
public record EkfacLayer(int layerIndex, int parameterOffset, int inFeatures, int outFeatures, double[] inputFactor,
                         double[] gradientFactor, double[] eigenvaluesA, double[] eigenvectorsA,
                         double[] eigenvaluesG, double[] eigenvectorsG, double[] diagonal) {

    /** @throws IllegalArgumentException if an array has the wrong length */
    public EkfacLayer {
        int sa = inFeatures + 1;
        int sg = outFeatures;
        require(inputFactor, sa * sa, "inputFactor");
        require(gradientFactor, sg * sg, "gradientFactor");
        require(eigenvaluesA, sa, "eigenvaluesA");
        require(eigenvectorsA, sa * sa, "eigenvectorsA");
        require(eigenvaluesG, sg, "eigenvaluesG");
        require(eigenvectorsG, sg * sg, "eigenvectorsG");
        require(diagonal, sg * sa, "diagonal");
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

    /** @return the number of parameters of the layer, {@code out·(in+1)} */
    public int numParameters() {
        return outFeatures * (inFeatures + 1);
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
        return new EkfacLayer(layerIndex, parameterOffset, inFeatures, outFeatures, inputFactor, gradientFactor,
                eigenvaluesA, eigenvectorsA, eigenvaluesG, eigenvectorsG, newDiagonal);
    }

    @Override
    public String toString() {
        return "EkfacLayer[layer " + layerIndex + ", " + outFeatures + "x" + inFeatures + "+bias]";
    }
}
