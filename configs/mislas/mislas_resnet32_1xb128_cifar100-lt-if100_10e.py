# MiSLAS stage 2 (dvlab-research/MiSLAS config/cifar100/cifar100_imb001_stage2_mislas.yaml) on CIFAR-100-LT IF 100:
# the stage-1 mixup ResNet-32 is loaded and frozen with shifted BatchNorm; its classifier (loaded, not re-initialised)
# and one learnable weight scale per class are trained with label-aware smoothing (concave, eps_head 0.4,
# eps_tail 0.1) and class-aware sampling (4 images per class visit), no mixup. One GPU x 128, SGD lr 0.1 (the
# classifier at lr x 0.2 = lr_factor, the scales at lr), momentum 0.9, weight decay 2e-4 on both, 10 epochs, cosine
# to 0 stepped per epoch.
# Train stage 1 first (./stage1-mixup_resnet32_1xb128_cifar100-lt-if100_200e.py), then python tools/train.py THIS_CONFIG
_base_ = ['./stage1-mixup_resnet32_1xb128_cifar100-lt-if100_200e.py', './_base_/mislas_stage2.py']
load_from = 'work_dirs/stage1-mixup_resnet32_1xb128_cifar100-lt-if100_200e/epoch_200.pth'
model = dict(
    train_cfg=None,  # no mixup in stage 2
    head=dict(type='LWSClsHead', train_fc=True,
              loss=dict(_delete_=True, type='LabelAwareSmoothingLoss', class_stats={{_base_.class_stats}},
                        smooth_head=0.4, smooth_tail=0.1, shape='concave')))
# The official loop runs ceil(N / batch) + 1 full class-aware batches per epoch (`if i > end_steps: break`):
# (ceil(10847 / 128) + 1) x 128 = 86 x 128 samples.
train_dataloader = dict(sampler=dict(_delete_=True, type='ClassAwareSampler', num_samples_cls=4, num_samples=11008))
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'head.fc': dict(lr_mult=0.2)}))
max_epochs = 10
param_scheduler = dict(_delete_=True, type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=True,
                       begin=0, end=max_epochs)
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
