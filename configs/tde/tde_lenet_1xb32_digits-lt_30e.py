# De-confound-TDE (Tang et al., NeurIPS 2020): LeNet-5 on Digits-LT (CPU, about a minute),
# configs/baseline/lenet_1xb32_digits-lt_30e.py with the causal-norm head (2 heads of 60 channels), the lr-scaled
# momentum of the ImageNet-LT recipe and the TDE subtraction at test with alpha 1.5 (the best on the val split of
# 0, 0.5, 1, 1.5, 2, 3; see README).
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(head=dict(_delete_=True, type='CausalNormClsHead', num_classes=10, in_channels=120, alpha=1.5))
custom_hooks = [dict(type='TDEMomentumHook')]
