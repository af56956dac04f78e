# De-confound-TDE (Tang et al., NeurIPS 2020): the causal-norm classifier (2 heads, tau 16, gamma 1/32) trained with
# cross-entropy, its moving-average feature direction in a buffer (momentum 0.9, fixed on CIFAR as the official), and
# the TDE subtraction with alpha 1.5 at test (official config/CIFAR100_LT/causal_norm_32.yaml).
# ResNet-32 on CIFAR-100-LT IF100, the official recipe: 1 GPU x 256, SGD lr 0.2, wd 5e-4, 200 epochs, floor(N / B)
# steps per epoch, warm-up over 5 epochs from x1/3 and x0.01 twice, each epoch at the official lr (see README):
# python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(head=dict(_delete_=True, type='CausalNormClsHead', num_classes=100, in_channels=64, alpha=1.5))
train_dataloader = dict(batch_size=256, drop_last=True)
optim_wrapper = dict(optimizer=dict(lr=0.2, weight_decay=5e-4))
# The official WarmupMultiStepLR steps at each epoch start, so 0-indexed epoch e runs at its last_epoch = e + 1:
# factors 7/15, 9/15, 11/15, 13/15, 1 over epochs 0..4, x0.01 from epoch 119 and again from 159.
param_scheduler = [
    dict(type='LinearLR', start_factor=7 / 15, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[119, 159], gamma=0.01, by_epoch=True, begin=0, end=200),
]
auto_scale_lr = dict(base_batch_size=256)
