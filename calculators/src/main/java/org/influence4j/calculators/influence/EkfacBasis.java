package org.influence4j.calculators.influence;

import java.util.Arrays;
import org.influence4j.api.DType;
import org.influence4j.api.Tensor;
import org.influence4j.api.TensorScope;

/**
 * The Kronecker eigenbasis of one fitted {@link EkfacLayer} on the backend: its eigenvector
 * matrices as tensors, and the rotation of parameter-space rows into that basis and back. Shared by
 * the estimation ({@link EkfacEstimator}, the eigenvalue refit) and the application
 * ({@link EkfacInfluence}, the solves).
 *
 * <p>Coordinates of a layer's part of a row {@code flat [m, p]}: {@code Q_Gᵀ [W|b] Q_A} (index
 * o·sa+j) for Dense and Conv2d, {@code W Q_G} (index v·out+k) for an Embedding, the parameters
 * themselves for a diagonal block. The tensors belong to the scope given to the constructor.
 */
final class EkfacBasis {

    private final EkfacLayer layer;
    /** Q_A[:in, :], {@code [in, sa]} (Dense, Conv2d). */
    final Tensor qaTop;
    /** Q_A[in, :], {@code [1, sa]} (with a bias). */
    final Tensor qaLast;
    private final Tensor qaTopT;
    private final Tensor qaLastT;
    /** Q_G, {@code [out, out]} (all but diagonal blocks). */
    final Tensor qg;
    private final Tensor qgT;

    EkfacBasis(EkfacLayer layer, DType dtype, TensorScope scope) {
        this.layer = layer;
        int in = layer.inFeatures();
        int sa = layer.augmentedInFeatures();
        int sg = layer.outFeatures();
        boolean kronecker = layer.kind() == EkfacLayer.Kind.DENSE || layer.kind() == EkfacLayer.Kind.CONV2D;
        double[] qa = layer.eigenvectorsA();
        qaTop = kronecker ? scope.fromArray(Arrays.copyOfRange(qa, 0, in * sa), dtype, in, sa) : null;
        qaLast = kronecker && layer.bias() ? scope.fromArray(Arrays.copyOfRange(qa, in * sa, sa * sa), dtype, 1, sa)
                : null;
        qaTopT = qaTop == null ? null : qaTop.transpose();
        qaLastT = qaLast == null ? null : qaLast.transpose();
        qg = layer.kind() == EkfacLayer.Kind.DIAGONAL ? null : scope.fromArray(layer.eigenvectorsG(), dtype, sg, sg);
        qgT = qg == null ? null : qg.transpose();
    }

    /** @return the layer's part of every row of {@code flat [m, p]} in the eigenbasis, {@code [m, p_l]} */
    Tensor toEigenbasis(Tensor flat) {
        int m = (int) flat.shape()[0];
        int in = layer.inFeatures();
        int out = layer.outFeatures();
        int off = layer.parameterOffset();
        switch (layer.kind()) {
            case DIAGONAL:
                return columns(flat, off, in);
            case EMBEDDING:
                return columns(flat, off, in * out).reshape((long) m * in, out).matmul(qg).reshape(m, (long) in * out);
            default:
                break;
        }
        int sa = layer.augmentedInFeatures();
        Tensor t = flat.transpose();
        Tensor w = t.rows(off, off + (long) out * in).transpose().reshape((long) m * out, in);
        // x[(s,o), j] = (V_s Q_A)[o, j]
        Tensor x = w.matmul(qaTop);
        if (qaLast != null) {
            Tensor b = t.rows(off + (long) out * in, off + (long) out * in + out).transpose().reshape((long) m * out, 1);
            x = x.add(b.matmul(qaLast));
        }
        // y[(j,s), o'] = (Q_Gᵀ V_s Q_A)[o', j]
        Tensor y = x.transpose().reshape((long) sa * m, out).matmul(qg);
        return y.reshape(sa, (long) m * out).transpose().reshape(m, (long) out * sa);
    }

    /** @return the inverse of {@link #toEigenbasis}: {@code k [m, p_l]} back in the layer's flat order */
    Tensor fromEigenbasis(Tensor k) {
        int m = (int) k.shape()[0];
        int in = layer.inFeatures();
        int out = layer.outFeatures();
        switch (layer.kind()) {
            case DIAGONAL:
                return k;
            case EMBEDDING:
                return k.reshape((long) m * in, out).matmul(qgT).reshape(m, (long) in * out);
            default:
                break;
        }
        int sa = layer.augmentedInFeatures();
        Tensor z = k.reshape((long) m * out, sa).transpose().reshape((long) sa * m, out).matmul(qgT);
        // r[(s,o), j] = (Q_G K_s)[o, j]
        Tensor r = z.reshape(sa, (long) m * out).transpose();
        Tensor w = r.matmul(qaTopT).reshape(m, (long) out * in);
        if (qaLastT == null) {
            return w;
        }
        Tensor b = r.matmul(qaLastT).reshape(m, out);
        return w.transpose().concat(b.transpose()).transpose();
    }

    /** @return columns {@code [off, off + width)} of {@code flat [n, p]} */
    static Tensor columns(Tensor flat, int off, int width) {
        return flat.transpose().rows(off, off + (long) width).transpose();
    }
}
