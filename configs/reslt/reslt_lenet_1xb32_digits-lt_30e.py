# ResLT (Cui et al., TPAMI 2022): LeNet-5 on Digits-LT (CPU, about a minute),
# configs/baseline/lenet_1xb32_digits-lt_30e.py with the CIFAR-style ResLT head (three BatchNorm branches on the
# 120-channel map, one shared fc, the logits summed), the second branch trained on the 9 medium+few-shot classes, the
# third on the 5 few-shot classes (ltmm's shot groups, which the official CIFAR-100-LT IF100 groups also are), beta
# 0.99 (the official ImageNet-LT value; every beta from 0.5 to 1 scores within one val image of it, see README).
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = '../baseline/lenet_1xb32_digits-lt_30e.py'
model = dict(
    neck=None,  # the head pools its own branches
    head=dict(_delete_=True, type='ResLTHead', num_classes=10, in_channels=120, expand='bn',
              loss=dict(type='ResLTLoss', class_stats={{_base_.class_stats}}, num_medium_tail=9, num_tail=5,
                        beta=0.99)))
