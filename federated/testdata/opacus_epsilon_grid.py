"""Regenerates opacus_epsilon_grid.txt from Opacus' own RDP analysis.

Run with Opacus' opacus/accountants/analysis/rdp.py (it needs only numpy and
scipy) copied beside this file as opacus_rdp.py:

    python3 opacus_epsilon_grid.py > opacus_epsilon_grid.txt
"""
import warnings

import opacus_rdp as o

warnings.simplefilter("ignore")  # "optimal order is the largest alpha"
orders = [1 + x / 10.0 for x in range(1, 100)] + list(range(12, 64))
print("# q sigma steps epsilon order: Opacus rdp.py (pytorch/opacus@4d0ebc84613d214fbfd37fbfd1390e3747a625ce,")
print("# opacus/accountants/analysis/rdp.py, scipy 1.10.1) compute_rdp + get_privacy_spent at delta 1e-5 over")
print("# RDPAccountant.DEFAULT_ALPHAS. Regenerate with testdata/opacus_epsilon_grid.py.")
for q in [1e-5, 1e-4, 1e-3, 0.01, 0.05, 0.2, 0.5, 0.9, 0.99, 1]:
    for s in [0.2, 0.3, 0.5, 0.8, 1, 1.5, 3, 10, 50]:
        for c in [1, 10, 50, 1000]:
            r = o.compute_rdp(q=q, noise_multiplier=s, steps=c, orders=orders)
            e, a = o.get_privacy_spent(orders=orders, rdp=r, delta=1e-5)
            print("%r %r %d %r %r" % (q, float(s), c, float(e), float(a)))
