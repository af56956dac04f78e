# Class-balanced sigmoid focal loss (Cui et al., CVPR 2019), beta 0.9999, gamma 1.0, the
# classifier bias initialised to -log(C - 1) = -log(9) and kept out of weight decay, as the official code.
# LeNet-5 on Digits-LT (CPU, about a minute): ./class-balanced-softmax_lenet_1xb32_digits-lt_30e.py (the same weights
# on configs/baseline/lenet_1xb32_digits-lt_30e.py) with the focal loss type.
# python tools/data/make_demo_data.py digits_lt --out-dir data/digits_lt first.
_base_ = './class-balanced-softmax_lenet_1xb32_digits-lt_30e.py'
model = dict(head=dict(loss=dict(loss_type='focal', gamma=1.0),
                       init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=-2.1972245773362196)))
optim_wrapper = dict(paramwise_cfg=dict(bias_decay_mult=0.0))
