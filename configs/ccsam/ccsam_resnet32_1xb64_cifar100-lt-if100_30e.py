# CC-SAM stage 2 (zzpustc/CC-SAM train_cifar.py `train_sample`, epochs 200-229 of configs/Cifar100.json) on
# CIFAR-100-LT IF 100: the stage-1 ResNet-32 is loaded and frozen (BatchNorm in train mode); its classifier is
# trained alone with class-conditional adversarial features (CCSAMClsHead(stage=2): w_c = ln(n_max / n_c + 0.01) / 2,
# adver_reg 1, a_e = min((e + 1) / 30, 0.3)) on class-aware batches (one image per class visit, N = 10,847 images an
# epoch, no drop_last), no mixup. One GPU x 64, SGD momentum 0.9, weight decay 2e-4, constant lr 0.01 (official
# lr_reset + adjust_learning_rate on CIFAR: 0.1 x the stage-1 lr; its x0.1 after epoch 30 is never reached), 30 epochs.
# Train stage 1 first (./stage1-ccsam_resnet32_1xb64_cifar100-lt-if100_200e.py), then python tools/train.py THIS_CONFIG
_base_ = ['./stage1-ccsam_resnet32_1xb64_cifar100-lt-if100_200e.py', './_base_/ccsam_stage2.py']
load_from = 'work_dirs/stage1-ccsam_resnet32_1xb64_cifar100-lt-if100_200e/epoch_200.pth'
model = dict(
    train_cfg=None,  # no mixup in stage 2
    head=dict(_delete_=True, type='CCSAMClsHead', num_classes=100, in_channels=64, class_stats={{_base_.class_stats}},
              stage=2, adv_strength=1.0, weight_div=2.0, max_adv_ratio=0.3, adv_epochs=30,
              loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
train_dataloader = dict(sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=1, num_samples='dataset'),
                        drop_last=False)
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = None  # constant lr
max_epochs = 30
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
