// Harness (not a test): java -cp ejml-ddense-0.44.0.jar:ejml-core-0.44.0.jar:ojalgo-57.1.0.jar EigBench.java
// Measures the symmetric eigendecompositions the inversion solvers need (k x k Lanczos projections).
import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.EigenDecomposition_F64;
import org.ojalgo.matrix.decomposition.Eigenvalue;
import org.ojalgo.matrix.store.MatrixStore;
import org.ojalgo.matrix.store.R064Store;

/** Symmetric eigendecomposition (values + vectors), EJML 0.44.0 vs ojalgo 57.1.0: median of timed runs after warm-up. */
public class EigBench {
    public static void main(String[] args) {
        for (int n : new int[] {20, 80, 200, 610}) {
            double[][] a = random(n, n);
            int reps = n <= 80 ? 200 : n <= 200 ? 20 : 5;
            long[] ej = new long[reps];
            long[] oj = new long[reps];
            double errE = 0, errO = 0;
            for (int w = 0; w < 2; w++) {
                for (int r = 0; r < reps; r++) {
                    DMatrixRMaj m = new DMatrixRMaj(a);
                    long t0 = System.nanoTime();
                    EigenDecomposition_F64<DMatrixRMaj> e = DecompositionFactory_DDRM.eig(n, true, true);
                    if (!e.decompose(m)) throw new IllegalStateException();
                    ej[r] = System.nanoTime() - t0;
                    double sE = 0; for (int i = 0; i < n; i++) sE += e.getEigenvalue(i).getReal();
                    R064Store s = R064Store.FACTORY.rows(a);
                    long t1 = System.nanoTime();
                    Eigenvalue<Double> o = Eigenvalue.R064.make(n, true);
                    if (!o.decompose(s)) throw new IllegalStateException();
                    MatrixStore<Double> v = o.getV();
                    oj[r] = System.nanoTime() - t1;
                    double sO = 0; for (int i = 0; i < n; i++) sO += o.getD().doubleValue(i, i);
                    double tr = 0; for (int i = 0; i < n; i++) tr += a[i][i];
                    errE = Math.abs(sE - tr) / Math.abs(tr); errO = Math.abs(sO - tr) / Math.abs(tr);
                    if (v.countRows() != n) throw new IllegalStateException();
                }
            }
            java.util.Arrays.sort(ej); java.util.Arrays.sort(oj);
            System.out.printf("n=%4d  EJML %9.3f ms   ojalgo %9.3f ms   (median of %d; trace rel err %.1e / %.1e)%n",
                    n, ej[reps / 2] / 1e6, oj[reps / 2] / 1e6, reps, errE, errO);
        }
    }
    static double[][] random(int n, long seed) {
        Random r = new Random(seed); double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) { a[i][j] = a[j][i] = r.nextGaussian(); }
        return a;
    }
}
