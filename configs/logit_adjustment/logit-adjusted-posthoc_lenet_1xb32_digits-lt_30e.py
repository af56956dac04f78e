# Post-hoc logit adjustment (Menon et al., ICLR 2021): train with plain cross-entropy, predict with
# argmax z - tau * log pi, tau = 1 (LogitAdjustedClsHead; the same checkpoint can be re-tested with another tau).
# LeNet-5 on Digits-LT (CPU, about a minute): configs/baseline/lenet_1xb32_digits-lt_30e.py with this method.
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(head=dict(type='LogitAdjustedClsHead', class_stats={{_base_.class_stats}}, tau=1.0))
