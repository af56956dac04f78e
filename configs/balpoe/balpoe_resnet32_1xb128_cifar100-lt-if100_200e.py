# BalPoE (Sanchez Aimar et al., CVPR 2023), 3 experts, ResNet-32 on CIFAR-100-LT (imbalance factor 100), 200 epochs:
# the official standard-training recipe (emasa/BalPoE-CalibratedLT
# configs/mixup/standard_training/config_cifar100_ir100_bs-experts.json, data_loader/cifar_data_loaders.py):
# BalPoELoss tau (0, 1, 2), mixup alpha 0.4, n_gpu 1 x batch 128, SGD nesterov lr 0.1, momentum 0.9, weight decay
# 5e-4, 200 epochs, CustomLR: linear warm-up 5 epochs, x0.1 at 160 and x0.01 at 180; crop 32 pad 4 + flip +
# RandomRotation(15). Network: ./_base_/balpoe_resnet32_cifar.py. python tools/train.py THIS_CONFIG
_base_ = ['./_base_/balpoe_resnet32_cifar.py', '../_base_/datasets/cifar100_lt_rotation.py',
          '../_base_/schedules/cifar_lt_200e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}})))
optim_wrapper = dict(optimizer=dict(nesterov=True, weight_decay=5e-4))
param_scheduler = [
    # LinearLR over [begin, end) reaches end_factor at epoch end - 1: factors 0.2, 0.4, 0.6, 0.8, 1.0
    dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[160, 180], gamma=0.1, by_epoch=True, begin=0, end=200),
]
