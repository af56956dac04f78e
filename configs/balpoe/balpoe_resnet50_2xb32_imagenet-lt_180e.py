# BalPoE (Sanchez Aimar et al., CVPR 2023), 3 experts, ResNet-50 on ImageNet-LT, the official standard-training run
# (emasa/BalPoE-CalibratedLT configs/mixup/standard_training/config_imagenet_lt_resnet50_bs-experts.json,
# data_loader/imagenet_lt_data_loaders.py): BalPoELoss tau (0, 1.25, 2.5), mixup alpha 0.3, n_gpu 2 with a total
# batch of 64 (nn.DataParallel: 32 per GPU, so 2 GPUs x 32 here), SGD nesterov lr 0.025, momentum 0.9, weight decay
# 5e-4, cosine to 0 over 180 epochs (stepped per epoch), no warm-up; RandomResizedCrop 224 + flip + ColorJitter(0.4,
# 0.4, 0.4). Network: ./_base_/balpoe_resnet50.py. tools/dist_train.sh THIS_CONFIG 2 (on 8 GPUs:
# tools/dist_train.sh THIS_CONFIG 8 --auto-scale-lr, lr 0.1 for 8 x 32; not the official batch)
_base_ = ['./_base_/balpoe_resnet50.py', '../_base_/datasets/imagenet_lt.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(num_classes={{_base_.num_classes}}, loss=dict(class_stats={{_base_.class_stats}})))
train_dataloader = dict(batch_size=32)
max_epochs = 180
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.025, momentum=0.9, nesterov=True, weight_decay=5e-4))
param_scheduler = dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=True, begin=0, end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
