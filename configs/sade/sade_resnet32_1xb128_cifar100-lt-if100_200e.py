# SADE (Zhang et al., NeurIPS 2022), 3 experts, ResNet-32 on CIFAR-100-LT (imbalance factor 100), 200 epochs: the
# official CIFAR-100 recipe (Vanint/SADE-AgnosticLT configs/config_cifar100_ir100_sade.json,
# data_loader/cifar_data_loaders.py): SADELoss tau 2, n_gpu 1 x batch 128, SGD nesterov lr 0.1, momentum 0.9,
# weight decay 5e-4, 200 epochs, CustomLR: linear warm-up 5 epochs, x0.1 at 160 and x0.01 at 180; crop 32 pad 4 +
# flip + RandomRotation(15). Network: RIDE's CIFAR ResNet-32 (./_base_/sade_resnet32_cifar.py).
# Test-time aggregation (configs/test_time_cifar100_ir100_sade.json, test_training_cifar.py): two views by crop +
# ColorJitter(0.4, 0.4, 0.4, 0.1) p 0.8 + grayscale p 0.2 + blur p 0.2 + flip, batch 128, SGD lr 0.1, nesterov,
# weight decay 5e-4, 5 epochs, early stop below 0.05.
# python tools/train.py THIS_CONFIG; then tools/sade_aggregate.py or tools/analysis/test_agnostic.py --aggregate
_base_ = ['./_base_/sade_resnet32_cifar.py', '../_base_/datasets/cifar100_lt_rotation.py',
          '../_base_/schedules/cifar_lt_200e.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}})))
optim_wrapper = dict(optimizer=dict(nesterov=True, weight_decay=5e-4))
param_scheduler = [
    # LinearLR over [begin, end) reaches end_factor at epoch end - 1: factors 0.2, 0.4, 0.6, 0.8, 1.0
    dict(type='LinearLR', start_factor=0.2, end_factor=1.0, by_epoch=True, begin=0, end=5),
    dict(type='MultiStepLR', milestones=[160, 180], gamma=0.1, by_epoch=True, begin=0, end=200),
]
view_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomApply', transforms=[dict(type='ColorJitter', brightness=0.4, contrast=0.4, saturation=0.4,
                                              hue=0.1)], prob=0.8),
    dict(type='RandomGrayscale', prob=0.2, keep_channels=True, channel_weights=(0.2989, 0.587, 0.114)),  # RGB
    dict(type='GaussianBlur', magnitude_range=(0.1, 2.0), magnitude_std='inf', prob=0.2),
    dict(type='RandomFlip', prob=0.5),
]
test_time_aggregation = dict(
    pipeline=[dict(type='MultiView', num_views=2, transforms=[view_pipeline]), dict(type='PackInputs')],
    batch_size=128, num_workers=2, epochs=5, min_weight=0.05,
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4))
