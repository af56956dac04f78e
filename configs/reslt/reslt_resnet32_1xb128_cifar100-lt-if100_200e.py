# ResLT (Cui et al., TPAMI 2022): three residual branches (BatchNorm each) on the last ResNet-32 map, one shared fc,
# the logits summed; the main branch trained on every class, the second on the 65 least frequent (medium+tail), the
# third on the 30 least frequent (tail), the sum on every class: beta * L_ice + (1 - beta) * L_fce, beta 0.995.
# ResNet-32 on CIFAR-100-LT IF100, the official run (jiequancui/ResLT
# CIFAR/sh/CIFAR100/CIFAR100LT_imf0.01_resnet32sx1_beta0.9950.sh, cifarTrain_reslt_cifar100.py): one GPU x 128,
# drop_last, SGD lr 0.1 nesterov momentum 0.9, wd 5e-4, 200 epochs, warm-up over 5 epochs from x1/3, x0.1 at 160 and
# at 180. python tools/train.py THIS_CONFIG
_base_ = '../baseline/resnet32_1xb128_cifar100-lt-if100_200e.py'
model = dict(
    neck=None,  # the head pools its own branches
    head=dict(_delete_=True, type='ResLTHead', num_classes=100, in_channels=64, expand='bn',
              loss=dict(type='ResLTLoss', class_stats={{_base_.class_stats}}, num_medium_tail=65, num_tail=30,
                        beta=0.995)))
train_dataloader = dict(drop_last=True)
optim_wrapper = dict(optimizer=dict(weight_decay=5e-4, nesterov=True))
# The official lr_schedule_multistep, set at each epoch start: epoch e < 5 runs at lr (1/3 (1 - f) + f), f = (e + 1)
# / 5 (factors 7/15, 9/15, 11/15, 13/15, 1), then lr, x0.1 from epoch 160, x0.01 from epoch 180 (0-indexed).
param_scheduler = [
    dict(type='LinearLR', start_factor=7 / 15, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[160, 180], gamma=0.1, by_epoch=True, begin=0, end=200),
]
