# BalPoE (Sanchez Aimar et al., CVPR 2023), 3 experts, ResNet-50 on iNaturalist 2018, the official standard-training
# run (emasa/BalPoE-CalibratedLT configs/mixup/standard_training/config_iNaturalist_resnet50_bs-experts.json,
# data_loader/inaturalist_data_loaders.py): BalPoELoss tau (-1, 1, 3), mixup alpha 0.2, n_gpu 4 with a total batch of
# 512 (128 per GPU), SGD nesterov lr 0.2, momentum 0.9, weight decay 2e-4, cosine to 0 over 100 epochs (stepped per
# epoch), no warm-up; RandomResizedCrop 224 + flip, iNaturalist normalisation. Network: ./_base_/balpoe_resnet50.py.
# tools/dist_train.sh THIS_CONFIG 4 (on 8 GPUs: 8 x 64 keeps the official total batch: --cfg-options
# train_dataloader.batch_size=64)
_base_ = ['./_base_/balpoe_resnet50.py', '../_base_/datasets/inat18.py', '../_base_/default_runtime_cls.py']
model = dict(head=dict(num_classes={{_base_.num_classes}},
                       loss=dict(class_stats={{_base_.class_stats}}, tau_list=[-1.0, 1.0, 3.0])),
             train_cfg=dict(augments=dict(alpha=0.2)))
train_dataloader = dict(batch_size=128)
max_epochs = 100
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.2, momentum=0.9, nesterov=True, weight_decay=2e-4))
param_scheduler = dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0.0, by_epoch=True, begin=0, end=max_epochs)
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
